"""The pages: ``/`` (sign in as a demo user), ``/contacts/`` (the decision table), ``/logout``.

The signed-in user's token is kept in the session (``settings.WARDEN["SESSION_KEY"]``), so
``WardenMiddleware`` verifies it on each page like a bearer header.
"""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from warden.django import decision_table, require

from .models import Contact

ACTIONS = ["read", "update", "delete"]


@require_http_methods(["GET", "POST"])
def sign_in(request):
    from .devauth import USERS, issuer  # only without a real provider (CONTACTS_ISSUER unset)

    if request.method == "POST":
        user = request.POST.get("user", "")
        if user not in USERS:
            return HttpResponseBadRequest("unknown user")
        request.session[settings.WARDEN["SESSION_KEY"]] = issuer.mint(user)
        return redirect(request.GET.get("next") or "contacts")
    return render(request, "contactbook/sign_in.html", {"users": USERS})


@require("read", "contact", login=True)
def contacts(request):
    rows = decision_table(request, Contact.objects.all(), ACTIONS)
    return render(request, "contactbook/contacts.html", {"rows": rows, "actions": ACTIONS})


def sign_out(request):
    request.session.pop(settings.WARDEN["SESSION_KEY"], None)
    return redirect("sign-in")
