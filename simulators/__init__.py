"""Device simulators for the Grid EMS demo and tests: P1 meter, Modbus devices, RTU."""
