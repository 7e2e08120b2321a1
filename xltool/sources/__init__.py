"""Everything that opens a file a user names (workbooks, published reports, summaries, rosters) and the commands built on it."""
