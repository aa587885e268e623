"""Backups of the data folder: a consistent snapshot, encrypted into one archive, kept by age, restored
only after every check has passed.

`keys` the key file, `archive` the encrypted format, `snapshot` the consistent copy,
`rotation` which archives are kept, `service` the daily backup, `restore` putting one back.
"""

from bot.backups.archive import ArchiveRefused, KeyProblem
from bot.backups.restore import RestoreInterrupted, RestoreReport, restore
from bot.backups.service import ArchiveInfo, BackupDone, BackupFailed, Backups

__all__ = [
    "ArchiveInfo",
    "ArchiveRefused",
    "BackupDone",
    "BackupFailed",
    "Backups",
    "KeyProblem",
    "RestoreInterrupted",
    "RestoreReport",
    "restore",
]
