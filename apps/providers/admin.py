"""Channels are catalog rows, but which adapters exist is the providers' knowledge: the admin
form offers them as a choice list here, so catalog never imports providers."""
from django import forms
from django.contrib import admin

from apps.catalog.admin import ChannelAdmin, ChannelForm
from apps.catalog.models import Channel

from .registry import adapter_names


class AdapterChannelForm(ChannelForm):
    adapter = forms.ChoiceField(choices=lambda: [(name, name) for name in adapter_names()],
                                help_text="Which upstream API this channel speaks.")


class AdapterChannelAdmin(ChannelAdmin):
    form = AdapterChannelForm


admin.site.unregister(Channel)
admin.site.register(Channel, AdapterChannelAdmin)
