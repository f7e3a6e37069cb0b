"""Session login (CSRF-protected) for the web app, tokens for scripts, and who am I."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.errors import ServiceError
from annotation.selectors.projects import user_memberships


def me_payload(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "is_superuser": user.is_superuser,
        "memberships": user_memberships(user=user),
    }


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


def _authenticate(request: Request) -> Any:
    data = CredentialsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = authenticate(request._request, **data.validated_data)
    if user is None:
        raise ServiceError("Invalid username or password.", code="bad_credentials")
    return user


@method_decorator(ensure_csrf_cookie, name="get")
class CsrfApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(status=204)


def _enforce_csrf(request: Request) -> None:
    # DRF only checks CSRF for requests that are already session-authenticated; logging in and
    # out must be protected too (login CSRF would sign a victim into an attacker's account).
    SessionAuthentication().enforce_csrf(request)


class LoginApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        _enforce_csrf(request)
        user = _authenticate(request)
        login(request._request, user)
        return Response(me_payload(user))


class LogoutApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        _enforce_csrf(request)
        logout(request._request)
        return Response(status=204)


class TokenApi(APIView):
    """Exchange credentials for an API token (``Authorization: Token <key>``) for scripts."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    def post(self, request: Request) -> Response:
        user = _authenticate(request)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "username": user.username})


class MeApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(me_payload(request.user))
