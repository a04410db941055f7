"""Internal purchase festivals: phases by the clock, allocated stock, reminders, leaderboards."""
