from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Project, Role
from annotation.services.projects import user_create


class Command(BaseCommand):
    help = "Create a user with a role in one or more projects (or a site administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="read from the terminal when omitted")
        parser.add_argument("--email", default="")
        parser.add_argument("--role", choices=Role.values, help="role in each --project")
        parser.add_argument("--project", action="append", default=[], help="project name")
        parser.add_argument("--superuser", action="store_true", help="site administrator")
        parser.add_argument("--update", action="store_true", help="reset an existing user")
        parser.add_argument("--token", action="store_true", help="print an API token for scripts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["project"] and not opts["role"]:
            raise CommandError("--project needs --role (annotator, reviewer or admin)")
        if opts["role"] and not opts["project"]:
            raise CommandError("--role needs at least one --project")
        projects = []
        for name in opts["project"]:
            project = Project.objects.filter(name=name).first()
            if project is None:
                raise CommandError(f"project {name!r} does not exist")
            projects.append(project)
        password = opts["password"]
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("--password is required when not running in a terminal")
            password = getpass.getpass(f"Password for {opts['username']}: ")
        try:
            user = user_create(
                username=opts["username"],
                password=password,
                email=opts["email"],
                superuser=opts["superuser"],
                memberships=[(p, opts["role"]) for p in projects],
                update=opts["update"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        roles = ", ".join(f"{opts['role']} of {p.name}" for p in projects) or "no project role"
        kind = "site administrator" if user.is_superuser else "user"
        self.stdout.write(f"{kind} {user.username}: {roles}")
        if opts["token"]:
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            self.stdout.write(f"API token: {token.key}")
