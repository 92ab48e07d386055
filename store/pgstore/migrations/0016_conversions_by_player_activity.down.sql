-- Back to version 15, exactly: the index goes, no row does.

DROP INDEX conversions_player_event_time;
