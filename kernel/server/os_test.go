package server

import "os"

var (
	osMkdirTemp = os.MkdirTemp
	osRemoveAll = os.RemoveAll
)
