"""Every domain's tables in one MetaData, for alembic autogenerate and `alembic check`."""

from printstash.auth import models as auth_models
from printstash.core import models as core_models
from printstash.core.db import Base
from printstash.library import models as library_models
from printstash.printers import models as printers_models

target_metadata = Base.metadata
__all__ = ["auth_models", "core_models", "library_models", "printers_models", "target_metadata"]
