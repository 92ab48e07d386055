DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE ledger_lines;
DROP TABLE conversion_history;
DROP TABLE conversions;
DROP TABLE player_bindings;
DROP TABLE clicks;
