"""A stand-in for the few Airflow classes stockpipe_operator.py imports
(BaseOperator, the task exceptions, the execution context), so the
operator's process handling can be tested without Airflow, which cannot
be installed here. It is not Airflow: no scheduler, no templating, no
metadata database. Put tests/airflow on sys.path to use it."""
STANDIN = True
