"""Stand-in for airflow.models: BaseOperator only."""
from airflow.models.baseoperator import BaseOperator  # noqa: F401
