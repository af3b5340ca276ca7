"""The signing benchmark's reference points (issue "Declaration signing", Performance), served only
when ``BENCH_ENDPOINTS=true``: the baseline, a bare DRF view that validates a small JSON body and
inserts one row; and the floor, a plain Django view that answers without the database, which shows
what the server, the middleware and the machine allow before any work is done."""

from __future__ import annotations

from django.http import JsonResponse
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Notification


class BaselineSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32)
    kind = serializers.ChoiceField(choices=["import", "export", "transit"])


class BaselineApi(APIView):
    def post(self, request):
        data = BaselineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = Notification.objects.create(user=request.user, kind="report_due", params=data.validated_data)
        return Response({"id": row.pk}, status=201)


def floor(request):
    return JsonResponse({"ok": True})
