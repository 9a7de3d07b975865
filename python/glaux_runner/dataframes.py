"""Spark DataFrames shown as DataFrame.show()'s text table plus an HTML table."""

import contextlib
import io

ROWS = 20  # as many as show() prints by default


def preview(df, truncate=True):
    """Returns (text, html) of the first ROWS rows. The DataFrame is evaluated once: show()
    then formats the collected rows, so its text matches Spark's own rendering exactly."""
    import pandas  # only once a DataFrame is shown: it is slow to import at start-up

    rows = df.limit(ROWS + 1).collect()
    local = df.sparkSession.createDataFrame(rows, df.schema, verifySchema=False)
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        local.show(ROWS, truncate=truncate)
    table = pandas.DataFrame.from_records([tuple(row) for row in rows[:ROWS]], columns=df.columns)
    html = table.to_html(index=False)
    if len(rows) > ROWS:
        html += f"\n<p>only showing top {ROWS} rows</p>"
    return text.getvalue(), html


def mimebundle(df):
    text, html = preview(df)
    return {"text/plain": text, "text/html": html}


def register_formatter(shell):
    """A Spark DataFrame as a cell's value displays its rows, not `DataFrame[id: bigint]`."""
    shell.display_formatter.mimebundle_formatter.for_type_by_name(
        "pyspark.sql.dataframe", "DataFrame", mimebundle
    )
