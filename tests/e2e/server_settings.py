"""Settings of the e2e live server: the test settings, serving the copy of frontend/dist taken
when the session started (E2E_FRONTEND_DIST), so that a rebuild of frontend/dist while the
browser tests run cannot pair an index.html with assets it does not reference."""

import os
from pathlib import Path

from config.settings.test import *  # noqa: F403

FRONTEND_DIST = Path(os.environ["E2E_FRONTEND_DIST"])
STATICFILES_DIRS = [FRONTEND_DIST]
