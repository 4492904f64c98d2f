"""Log in: the app knows who you are, and shows what your role allows."""

from qa_review.ui.common import db
from qa_review.ui.session import login_form

login_form(db())
