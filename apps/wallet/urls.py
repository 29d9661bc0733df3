from django.urls import path

from . import views

app_name = "wallet"

urlpatterns = [
    path("wallet/", views.wallet_page, name="page"),
    path("wallet/ledger.csv", views.ledger_csv, name="csv"),
    path("wallet/redeem", views.redeem, name="redeem"),
]
