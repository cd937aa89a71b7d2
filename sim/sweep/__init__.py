"""`pkilab sweep`: many (scenario, variant, seed) runs as tasks on Dask distributed.

    tasks.py    the pure per-run task a worker executes (`run_task`), with its time limit
    client.py   submission to a cluster (a LocalCluster or `--scheduler`), streaming results
    session.py  one sweep: plan the runs, run them, keep and show the results
    display.py  the progress bar (or CI log lines), the summary table, the triage lines
    triage.py   failures grouped by what broke and by the first diverging event
    shrink.py   a failing soak seed reduced to a minimal list of explicit faults
    output.py   the sweep folder: summary.json per run, sweep.json, JUnit XML
    bench.py    `python -m sim.sweep.bench`: a sweep against a loop of `pkilab run`
"""
