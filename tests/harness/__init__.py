"""The project's own test harness: data dirs, migrations, live processes, real peers."""
