#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cli-grep.sh on tmpfs (/tmp): examples/sfr-grep against grep -F there.
exec "$(dirname "$0")/cli-grep.sh" /tmp
