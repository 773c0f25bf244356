"""Template tags: ``{% load warden %}``, then "may the signed-in principal do this?"::

    {% allowed "update" contact as can_edit %}
    {% if can_edit %}<a href="{% url 'contact-edit' contact.pk %}">Edit</a>{% endif %}

    {% allowed "create" kind="contact" as can_create %}      {# the collection #}

The request comes from the template context (``django.template.context_processors.request``);
without a verified principal every answer is False. The decision is the engine's, on the resource
:func:`warden.django.policy.resource_of` makes of the object.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from django import template

from warden.django.policy import is_allowed

register = template.Library()


@register.simple_tag(takes_context=True)
def allowed(context: Mapping[str, Any], action: str, obj: Any = None, kind: Optional[str] = None) -> bool:
    """Whether the request's principal may ``action`` on ``obj`` (or on the collection of ``kind``)."""
    request = context.get("request")
    if request is None:
        raise template.TemplateSyntaxError(
            "{% allowed %} needs the request in the context: add 'django.template.context_processors.request' "
            "to the template engine's context_processors"
        )
    return is_allowed(request, action, obj, kind=kind)
