"""Reading the statements a block of code sent to the database."""


def data_queries(context) -> list[str]:
    """The statements of a CaptureQueriesContext that read a table: not savepoints, nor those that only set
    settings (an aggregate's work_mem, pghistory's context), nor the throttles' counters in the cache table."""
    return [q["sql"] for q in context.captured_queries if " FROM " in q["sql"] and '"cache_entries"' not in q["sql"]]
