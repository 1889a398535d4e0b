"""Library display preferences, kept in app_state for every user and process: the currency
of the filament cost slicers write as a bare number (PrusaSlicer's `; filament cost = 0.41`)."""

from sqlalchemy.orm import Session

from printstash.core.db import utcnow
from printstash.core.models import AppState
from printstash.library.schemas import LibraryPreferences

KEY = "library.preferences"


def read(session: Session) -> LibraryPreferences:
    row = session.get(AppState, KEY)
    return LibraryPreferences.model_validate(row.value) if row and isinstance(row.value, dict) else LibraryPreferences()


def write(session: Session, preferences: LibraryPreferences) -> LibraryPreferences:
    row = session.get(AppState, KEY)
    if row is None:
        session.add(AppState(key=KEY, value=preferences.model_dump(), updated_at=utcnow()))
    else:
        row.value, row.updated_at = preferences.model_dump(), utcnow()
    return preferences
