from django.core.management.base import BaseCommand, CommandError

from signatures.models import TrustedIssuer
from signatures.selectors import current_crls
from signatures.services import trust


class Command(BaseCommand):
    help = "List the trusted issuers with their newest CRL; retire or re-activate one by fingerprint."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--retire", metavar="FINGERPRINT")
        action.add_argument("--activate", metavar="FINGERPRINT")

    def handle(self, *args, retire: str | None, activate: str | None, **options):
        if retire or activate:
            issuer = TrustedIssuer.objects.filter(fingerprint_sha256=(retire or activate).lower()).first()
            if issuer is None:
                raise CommandError("no trusted issuer has this SHA-256 fingerprint")
            status = TrustedIssuer.Status.RETIRED if retire else TrustedIssuer.Status.ACTIVE
            trust.trusted_issuer_set_status(issuer=issuer, status=status, actor=None)
        newest = {pk: crl for pk, (_issuer, crl) in current_crls().items()}
        for issuer in TrustedIssuer.objects.all():
            crl = newest.get(issuer.pk)
            crl_text = (
                f"CRL of {crl.this_update:%Y-%m-%d}, next {crl.next_update:%Y-%m-%d}" if crl else "no CRL"
            )
            self.stdout.write(f"{issuer.fingerprint_sha256}  {issuer.status:<8} {issuer.name}  ({crl_text})")
