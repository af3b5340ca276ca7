from django.db import migrations


def create_state(apps, schema_editor):
    # The sealer locks this one row; creating it here avoids a race between two first sealers.
    apps.get_model("audit", "AuditSealState").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_state, migrations.RunPython.noop)]
