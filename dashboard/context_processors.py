"""Template context shared by every page: the signed-in user's role."""

from .roles import Role, user_role


def roles(request):
    role = user_role(getattr(request, "user", None))
    return {
        "user_role": role,
        "is_manager": role is not None and role >= Role.MANAGER,
        "is_reviewer": role is not None and role >= Role.REVIEWER,
        "is_labeler": role is not None and role >= Role.LABELER,
    }
