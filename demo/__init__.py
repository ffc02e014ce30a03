"""The Grid EMS demo site: its Home Assistant configuration, simulators and set-up."""
