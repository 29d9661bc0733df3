"""Django admin refuses staff without MFA when ADMIN_REQUIRE_MFA is on (besides the redirect of
AdminMFAMiddleware, so no admin view is reachable another way)."""
from django.conf import settings


def admin_has_permission(base):
    def has_permission(request):
        if not base(request):
            return False
        if settings.ADMIN_REQUIRE_MFA:
            from .middleware import staff_has_mfa

            return staff_has_mfa(request.user)
        return True

    return has_permission
