from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from risk.services.reviews import signin_review_answer, signin_review_get


@never_cache
@require_http_methods(["GET", "POST"])
def signin_review(request, token: str):
    """ "Was this you?": the question (GET, so that mail scanners that fetch links answer nothing)
    and the answer (POST). "This was me" needs its recipient signed in; "this was not me" works
    from the link alone."""
    try:
        if request.method == "POST":
            review = signin_review_answer(
                token=token, answer=request.POST.get("answer", ""), actor=request.user
            )
            return render(request, "risk/signin_review_done.html", {"review": review})
        review = signin_review_get(token=token, actor=request.user)
    except ApplicationError as error:
        if error.code == "not_authenticated":
            return redirect_to_login(request.get_full_path())
        return render(request, "risk/signin_review_invalid.html", {"error": error}, status=error.status_code)
    return render(request, "risk/signin_review.html", {"review": review, "event": review.event})
