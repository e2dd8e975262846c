"""The environment's database as its clients see it (psycopg 3 and psycopg_pool).

::

    connection   libpq parameters from the environment's ``database`` section (credentials by reference,
                 never in a message), one fresh connection, and the watchdog that bounds an operation
    clients      a writer and a reader holding connection pools like an application, their figures
"""
