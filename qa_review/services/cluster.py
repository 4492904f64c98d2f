"""Where transcription tasks run: Dask's ``distributed``, on a local cluster or a remote one.

Without a scheduler address a cluster is started in this process (threads,
in-process transport, nothing listening beyond loopback): the path every test and every single-machine
site takes is the one a cluster takes. With ``tcp://HOST:8786`` (or
``tls://``) the tasks go to the workers started there with ``dask worker``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from qa_review.core.errors import ConfigError, QAReviewError

CONNECT_TIMEOUT_S = 20


@contextmanager
def connect(scheduler: str | None, *, workers: int = 1, security=None) -> Iterator:
    """A Dask client: to ``scheduler``, or to a cluster of ``workers`` threads in this process."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        with (
            # Dask samples every task thread's stack each 10 ms for its dashboard, which
            # nobody sees here: measured, that cost about 5 % of two threads' throughput
            dask.config.set({"distributed.worker.profile.enabled": False}),
            LocalCluster(
                n_workers=1,
                threads_per_worker=max(1, workers),
                processes=False,
                # In-process transport, and the HTTP endpoints every Dask node starts bound
                # to loopback: a transcription run opens nothing the clinic's network can
                # reach (a scheduler on 0.0.0.0 would take anyone's tasks)
                protocol="inproc://",
                dashboard_address="127.0.0.1:0",
                worker_dashboard_address="127.0.0.1:0",
                silence_logs=40,  # the progress bar speaks; Dask's own INFO lines do not
            ) as local,
            Client(local, set_as_default=False) as client,
            client.as_current(),
        ):
            yield client
        return
    try:
        client = Client(scheduler, security=security, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ConfigError(
            f"cannot reach the Dask scheduler at {scheduler} ({e}); start it with `dask scheduler` on that "
            "machine, check the address and the firewall (port 8786), or leave out --scheduler to work locally"
        ) from e
    try:
        with client.as_current():
            yield client
    finally:
        client.close()


def task_slots(client, local_workers: int, remote: bool) -> int:
    """How many calls to keep leased and in flight.

    Locally, one per task thread: a killed run holds no more calls than it was
    working on. On a cluster, two per worker thread, so a worker has its next
    recording at hand while it transcribes the last.
    """
    if not remote:
        return max(1, local_workers)
    return max(1, 2 * sum(client.nthreads().values()))


def first_done(futures: list, timeout: float) -> list:
    """The futures among ``futures`` that finished, waiting at most ``timeout`` s for the first."""
    from distributed import wait

    try:
        done, _ = wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
    except TimeoutError:
        return []
    return list(done)


def failure_reason(call_id: str, error: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(error, KilledWorker):
        return (
            f"call {call_id}: the worker transcribing it died each time it was tried ({error}); "
            "the recording may crash the decoder: check it with ffprobe, or transcribe it alone with --call"
        )
    return str(error) if isinstance(error, QAReviewError) else f"call {call_id}: {error!r}"


def security(scheduler: str | None, ca: str | None, cert: str | None, key: str | None):
    """Dask's TLS settings for this client, or None for plain tcp://; a half-given set is refused."""
    given = [x for x in (ca, cert, key) if x]
    tls = bool(scheduler) and scheduler.startswith("tls://")
    if not tls and not given:
        return None
    if not tls:
        raise ConfigError("--tls-ca, --tls-cert and --tls-key go with a tls:// scheduler address")
    if len(given) != 3:
        raise ConfigError(
            f"{scheduler}: a TLS scheduler needs --tls-ca, --tls-cert and --tls-key (the CA that signed the "
            "scheduler's and workers' certificates, and this client's certificate and key)"
        )
    from distributed.security import Security

    return Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
