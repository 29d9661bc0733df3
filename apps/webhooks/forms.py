from django import forms

from .models import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(label="URL", max_length=2000,
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/atelier/webhooks"}))
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(choices=[(name, name) for name in EVENT_TYPES], required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text="None ticked: every event.")
