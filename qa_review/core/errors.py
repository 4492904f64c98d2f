"""Every failure a user can meet, as a typed exception.

Messages say what was wrong, where (file, row, field, call) and what to do,
so the CLI and the app can show them as they are.
"""


class QAReviewError(Exception):
    """Base class: an error with a message meant for the user.

    ``code`` and its params let a UI say the same in the user's language
    (messages.yaml, key ``err.<code>``); the message itself stays English
    for logs and the command line.
    """

    def __init__(self, message: str = "", *, code: str | None = None, **params):
        super().__init__(message)
        self.code = code
        self.params = params


class ConfigError(QAReviewError):
    """A setting has a value the program cannot use."""


class ModelError(QAReviewError):
    """An ASR model cannot be found, installed or loaded."""


class ModelNotInstalled(ModelError):
    """A registry model was asked for but is not installed yet."""


class ModelIntegrityError(ModelError):
    """Installed or downloaded model files do not match their checksum."""


class IngestError(QAReviewError):
    """One input (file or manifest row) could not be ingested."""


class AudioError(IngestError):
    """An audio file is empty, corrupt, unsupported or unreadable."""


class ManifestError(IngestError):
    """A manifest file or one of its rows is malformed."""


class ConversationError(IngestError):
    """A written conversation (chat, messenger, e-mail) JSON is malformed."""


class ArchiveError(IngestError):
    """A recording cannot be kept in, or read back from, the archive under the data folder."""


class TranscriptionError(QAReviewError):
    """A call could not be transcribed."""


class CallNotFound(QAReviewError):
    """No call with the given id exists in the database."""


class DatabaseError(QAReviewError):
    """The database file is missing, not SQLite, or cannot be opened, read or written."""


class MigrationError(QAReviewError):
    """The database schema is newer than this program or cannot be upgraded."""


class ChecklistError(QAReviewError):
    """A checklist file is missing, not valid YAML, or breaks the format."""


class ScoringError(QAReviewError):
    """A call could not be scored against a checklist."""


class AuthError(QAReviewError):
    """Wrong user name or password, or an inactive account."""


class PermissionDenied(QAReviewError):
    """The user's role or team does not allow this action on this call."""


class InvalidTransition(QAReviewError):
    """The scorecard's state does not allow this action (e.g. editing a final scorecard)."""


class ConcurrentChange(QAReviewError):
    """Someone saved the scorecard after it was loaded; reload and apply the change again."""


class Busy(QAReviewError):
    """The database stayed locked by another writer longer than the wait allows; nothing was changed."""


class NotFound(QAReviewError):
    """A user, scorecard, dispute or item does not exist."""


class RulesError(QAReviewError):
    """A bonus rules file is missing, not valid YAML, or breaks the format."""


class ProfileError(ConfigError):
    """The site's ASR profile (asr-profile.yaml) is unreadable or invalid."""
