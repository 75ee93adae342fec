"""Stand-in for airflow.models.baseoperator.BaseOperator: task_id, the
keyword arguments every operator accepts, a task logger (self.log, as
LoggingMixin gives it) and the execute/on_kill hooks."""
import logging


class BaseOperator:
    template_fields = ()

    def __init__(self, *, task_id, retries=0, retry_delay=None,
                 execution_timeout=None, trigger_rule="all_success",
                 dag=None, do_xcom_push=True, **kwargs):
        self.task_id = task_id
        self.retries = retries
        self.retry_delay = retry_delay
        self.execution_timeout = execution_timeout
        self.trigger_rule = trigger_rule
        self.dag = dag
        self.do_xcom_push = do_xcom_push
        self.extra_kwargs = kwargs
        self.log = logging.getLogger(
            "airflow.task.operators.%s" % type(self).__name__)

    def execute(self, context):
        raise NotImplementedError

    def on_kill(self):
        pass
