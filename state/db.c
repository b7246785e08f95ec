/* placeholder: to be written */
#include "emulator/common.h"
