"""The Jinja2 environment shared by every domain's pages (autoescaping on)."""

from pathlib import Path

from fastapi.templating import Jinja2Templates

from app.auth.csrf import csrf_token
from app.auth.deps import current_user

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
# Every form that changes state writes {{ csrf_token() }}; the nav shows current_user().
templates.env.globals["csrf_token"] = csrf_token
templates.env.globals["current_user"] = current_user
