"""``/api/v1/me``, ``/api/v1/brokers/`` and ``/api/v1/authorizations/`` (DESIGN §6)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from brokers import selectors
from brokers.models import Authorization, BrokerLicence, OrganizationAPIKey
from brokers.services.mandates import (
    authorization_accept,
    authorization_cancel,
    authorization_decline,
    authorization_grant,
    authorization_invite,
    authorization_revoke,
)
from core.errors import ERROR_RESPONSES, ApplicationError
from core.pagination import PageNumberPagination
from core.text import validate_visible_text


class MeApi(APIView):
    required_scope = "read"

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "user": serializers.CharField(),
                "role": serializers.CharField(),
                "organization": serializers.DictField(),
                "agent": serializers.DictField(allow_null=True),
                "licence": serializers.DictField(allow_null=True),
                "key": serializers.DictField(allow_null=True),
            },
        )
    )
    def get(self, request):
        user, key = request.user, request.auth if isinstance(request.auth, OrganizationAPIKey) else None
        organization = user.organization
        agent = getattr(user, "agent_profile", None)
        licence = getattr(organization, "licence", None) if organization is not None else None
        return Response(
            {
                "user": user.username,
                "role": user.role,
                # The customs agent record a broker's signer acts under, and the broker's licence.
                "agent": None
                if agent is None
                else {"number": agent.agent_number, "joined_on": agent.joined_on, "left_on": agent.left_on},
                "licence": None
                if licence is None
                else {"number": licence.number, "status": licence.status, "issued_on": licence.issued_on},
                "organization": None
                if organization is None
                else {
                    "tax_code": organization.tax_code,
                    "name": organization.name,
                    "kind": organization.kind,
                    "status": organization.status,
                },
                "key": None
                if key is None
                else {
                    "prefix": key.prefix,
                    "name": key.name,
                    "scopes": key.scopes,
                    "expires": key.expiry_date,
                },
            }
        )


class BrokerDirectorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="organization.name")
    tax_code = serializers.CharField(source="organization.tax_code")
    province = serializers.CharField(source="organization.province")
    address = serializers.CharField(source="organization.address")
    licence_number = serializers.CharField(source="number")

    class Meta:
        model = BrokerLicence
        fields = [
            "name",
            "tax_code",
            "province",
            "address",
            "licence_number",
            "issued_by",
            "issued_on",
            "status",
        ]


class DirectoryPagination(PageNumberPagination):
    page_size = 25


class BrokerDirectoryApi(ListAPIView):
    """The public directory of licensed brokers: search ``q`` (name, tax code, licence number),
    ``province``, ``status``. No key needed."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = BrokerDirectorySerializer
    pagination_class = DirectoryPagination
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", str, description="name, tax code or licence number (the first 100 characters)"
            ),
            OpenApiParameter(
                "province", str, description="part of the province's name (the first 64 characters)"
            ),
            OpenApiParameter("status", str, enum=BrokerLicence.Status.values),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        if "status" in params and params["status"] not in BrokerLicence.Status.values:  # empty too
            raise ApplicationError(
                "No licence has this status.", code="invalid_status", fields={"status": ["invalid_choice"]}
            )
        return selectors.broker_directory(
            query=params.get("q", "")[:100],
            province=params.get("province", "")[:64],
            status=params.get("status", ""),
        )


class AuthorizationSerializer(serializers.ModelSerializer):
    trader = serializers.SerializerMethodField()
    broker = serializers.SerializerMethodField()
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Authorization
        fields = [
            "id", "status", "trader", "broker", "scopes", "representation", "contract_number",
            "valid_from", "valid_until", "grantor_name", "grantor_title", "initiated_by", "invited_at",
            "invitation_expires_at", "responded_at", "ended_by_party", "ended_at", "end_reason",
        ]  # fmt: skip

    def get_trader(self, mandate) -> dict:
        return {"tax_code": mandate.trader.tax_code, "name": mandate.trader.name}

    def get_broker(self, mandate) -> dict:
        return {"tax_code": mandate.broker.tax_code, "name": mandate.broker.name}


class AuthorizationCreateSerializer(serializers.Serializer):
    """A trader grants (``broker_tax_code``); a broker invites (``trader_tax_code`` and either
    ``trader_registered_on`` or the trader's one-time ``authorization_code``)."""

    broker_tax_code = serializers.CharField(max_length=20, required=False)
    trader_tax_code = serializers.CharField(max_length=20, required=False)
    trader_registered_on = serializers.DateField(required=False)
    authorization_code = serializers.CharField(
        max_length=16, required=False, help_text="the one-time code the trader issued, e.g. K7QM-3XWP"
    )
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Authorization.Scope.choices), min_length=1, max_length=3
    )
    representation = serializers.ChoiceField(choices=Authorization.Representation.choices)
    contract_number = serializers.CharField(max_length=64, validators=[validate_visible_text])
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    grantor_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, default="", validators=[validate_visible_text]
    )
    grantor_title = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")


class AuthorizationListApi(GenericAPIView):
    """Mandates my organisation gave or received, newest first (cursor pages), ``?status=``."""

    required_scopes = {"GET": "read", "POST": "manage"}
    serializer_class = AuthorizationSerializer
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Authorization.objects.none()
        return selectors.mandate_list(viewer=self.request.user)

    @extend_schema(operation_id="authorizations_list", responses=AuthorizationSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AuthorizationSerializer(page, many=True).data)

    @extend_schema(
        request=AuthorizationCreateSerializer, responses={201: AuthorizationSerializer, **ERROR_RESPONSES}
    )
    def post(self, request):
        data = AuthorizationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        common = {
            "scopes": values["scopes"],
            "representation": values["representation"],
            "contract_number": values["contract_number"],
            "valid_from": values["valid_from"],
            "valid_until": values["valid_until"],
        }
        organization = request.user.organization
        if organization is not None and organization.is_broker:
            if "trader_tax_code" not in values:
                raise ApplicationError(
                    _("A broker names the trader's tax code and its registration date or code."),
                    code="invalid_input",
                    fields={"trader_tax_code": ["required"]},
                )
            mandate = authorization_invite(
                actor=request.user,
                trader_tax_code=values["trader_tax_code"],
                trader_registered_on=values.get("trader_registered_on"),
                authorization_code=values.get("authorization_code", ""),
                **common,
            )
        else:
            broker = selectors.broker_by_tax_code(values.get("broker_tax_code", ""))
            if broker is None:
                raise ApplicationError(
                    "No licensed broker has this tax code.",
                    code="broker_not_found",
                    fields={"broker_tax_code": ["unknown"]},
                )
            mandate = authorization_grant(
                actor=request.user,
                broker=broker,
                grantor_name=values["grantor_name"],
                grantor_title=values["grantor_title"],
                **common,
            )
        return Response(AuthorizationSerializer(mandate).data, status=status.HTTP_201_CREATED)


class AuthorizationActionApi(APIView):
    """``accept``, ``decline``, ``cancel`` or ``revoke``; ``reason`` is optional for the last two."""

    required_scope = "manage"
    action_name = ""

    @extend_schema(
        request=inline_serializer("MandateAction", {"reason": serializers.CharField(required=False)}),
        responses={200: AuthorizationSerializer, **ERROR_RESPONSES},
    )
    def post(self, request, pk: int):
        mandate = selectors.mandate_for_viewer(viewer=request.user, pk=pk)
        if mandate is None:
            raise ApplicationError("No such mandate.", code="not_found", status_code=404)
        reason = str(request.data.get("reason", ""))[:500] if hasattr(request.data, "get") else ""
        change = {
            "accept": lambda: authorization_accept(mandate=mandate, actor=request.user),
            "decline": lambda: authorization_decline(mandate=mandate, actor=request.user, reason=reason),
            "cancel": lambda: authorization_cancel(mandate=mandate, actor=request.user),
            "revoke": lambda: authorization_revoke(mandate=mandate, actor=request.user, reason=reason),
        }[self.action_name]
        return Response(AuthorizationSerializer(change()).data)
