"""Stand-in for airflow.exceptions: the names and the hierarchy the
operator relies on (Airflow retries an AirflowException while retries
are left; AirflowFailException and AirflowSkipException end the try)."""


class AirflowException(Exception):
    pass


class AirflowFailException(AirflowException):
    pass


class AirflowSkipException(AirflowException):
    pass


class AirflowTaskTimeout(AirflowException):
    pass
