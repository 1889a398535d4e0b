"""HTTP routes of the backups domain (thin: parse, call the service, shape the answer).

Admin only. POST /backups runs the backup in the request (a plain `def` route, so in the
threadpool): the admin gets the finished archive's name or the reason it failed.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import FileResponse

from printstash.auth.dependencies import AdminUser
from printstash.backups import policy, restore, service
from printstash.backups.schemas import BackupPolicy, BackupRead, BackupVerified, MaintenanceRead, MaintenanceUpdate
from printstash.core import maintenance
from printstash.core.deps import DatabaseDep, ReadSession, SettingsDep, WriteSession
from printstash.core.pagination import Page

router = APIRouter(tags=["backups"])
BackupName = Annotated[str, Path(max_length=80, description="a name from GET /backups")]


def _read(info: service.BackupInfo) -> BackupRead:
    return BackupRead(name=info.name, size=info.size, created_at=info.created_at, kind=info.kind)


@router.post("/backups", status_code=201)
def create_backup(user: AdminUser, settings: SettingsDep, db: DatabaseDep,
                  with_objects: Annotated[bool, Query(description="VAULT_STORAGE=s3: copy the bucket's objects "
                                                      "into the archive too (else it lists them)")] = False
                  ) -> BackupRead:
    return _read(service.create_backup(settings, db, "manual", with_objects))


@router.get("/backups")
def list_backups(user: AdminUser, settings: SettingsDep) -> Page[BackupRead]:
    items = [_read(i) for i in service.list_backups(settings)]
    return Page(items=items, total=len(items))


@router.get("/backups/{name}/download", response_class=FileResponse)
def download_backup(name: BackupName, user: AdminUser, settings: SettingsDep) -> FileResponse:
    path = service.backup_path(settings, name)
    return FileResponse(path, media_type="application/x-tar", filename=name)


@router.get("/backups/policy")
def backup_policy(user: AdminUser, settings: SettingsDep) -> BackupPolicy:
    """The schedule, its next run, retention and where backups are written."""
    return policy.policy(settings)


@router.post("/backups/{name}/verify")
def verify_backup(name: BackupName, user: AdminUser, settings: SettingsDep) -> BackupVerified:
    """Read the whole archive back: every member's hash and the database's integrity check
    (422 `backup_corrupt` says what is wrong)."""
    head, _objects = restore.verify_backup(settings, service.backup_path(settings, name))
    counts = head.get("counts") or {}
    return BackupVerified(name=name, members=int(counts.get("members", 0)), bytes=int(counts.get("bytes", 0)),
                          alembic_revision=head.get("alembic_revision"), taken_at=head.get("created_at"))


@router.delete("/backups/{name}", status_code=204)
def delete_backup(name: BackupName, user: AdminUser, settings: SettingsDep) -> Response:
    service.delete_backup(settings, name)
    return Response(status_code=204)


@router.get("/maintenance")
def get_maintenance(user: AdminUser, session: ReadSession) -> MaintenanceRead:
    return _maintenance(maintenance.status(session))


@router.put("/maintenance")
def set_maintenance(user: AdminUser, body: MaintenanceUpdate, session: WriteSession) -> MaintenanceRead:
    return _maintenance(maintenance.set_mode(session, body.on, body.message))


def _maintenance(mode: maintenance.Mode) -> MaintenanceRead:
    return MaintenanceRead.model_validate(mode, from_attributes=True)
