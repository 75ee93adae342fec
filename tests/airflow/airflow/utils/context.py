"""Stand-in for airflow.utils.context: the execution context is a dict
with at least ti / task_instance, dag_run and run_id; TaskInstance here
carries the fields the operator reads."""


class Context(dict):
    pass


class TaskInstance:
    def __init__(self, dag_id, task_id, run_id, map_index=-1,
                 try_number=1):
        self.dag_id = dag_id
        self.task_id = task_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = try_number


class DagRun:
    def __init__(self, dag_id, run_id):
        self.dag_id = dag_id
        self.run_id = run_id


def make_context(dag_id="stockpipe", task_id="task",
                 run_id="scheduled__2026-11-20T06:00:00+00:00",
                 map_index=-1, try_number=1):
    ti = TaskInstance(dag_id, task_id, run_id, map_index, try_number)
    return Context(ti=ti, task_instance=ti, dag_run=DagRun(dag_id, run_id),
                   run_id=run_id)
