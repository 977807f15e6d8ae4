# Line coverage of the portable core by the host tests (gcov).

## make coverage     line coverage of mm/, lib/, boot/mb2.c and the vmm/
##                   parsers by every host test (gcc --coverage, plain
##                   flavour, in $(BUILD)/coverage/); Markdown tables in
##                   $(BUILD)/coverage.md (figures: docs/testing.md)
## make mutate       plant each bug of tests/mutate/ in a copy of the
##                   tree, run the host tests, report caught/total
.PHONY: coverage mutate
coverage: deps
	$(Q)BUILD=$(BUILD) tools/coverage -o $(BUILD)/coverage.md

mutate: deps
	$(Q)MUTATE_DIR=$(abspath $(BUILD))/mutate tools/mutate
