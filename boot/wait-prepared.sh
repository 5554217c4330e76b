#!/bin/bash
# Run by SSM on the image builder (the prepare-wait association): succeeds once the boot
# script's prepare phase has finished there, fails as soon as it has failed, and shows the
# boot script's journal then. Pulumi takes the image only after this succeeded.
state=/var/lib/wordpress-converge
for ((i = 0; i < 280; i++)); do
  if [[ -f $state/prepared ]]; then
    echo "prepared: $(cat "$state/prepared")"
    exit 0
  fi
  if [[ -f $state/prepare-failed ]]; then
    echo "the prepare phase failed:"
    journalctl --unit wordpress-converge --no-pager --lines 40
    exit 1
  fi
  sleep 10
done
echo "the prepare phase did not finish in time:"
journalctl --unit wordpress-converge --no-pager --lines 40
exit 1
