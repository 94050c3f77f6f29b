"""An app model for verdict tests (written to a temporary fixtures/apps/ folder by the tests):
`api-1` retries once, `api-2` succeeds at once, `api-3` fails, `upload` takes 5 s, `net-sync`
needs the network, `load?count=N` enqueues load-0 … load-(N-1)."""

APP = """\
package: dev.bgtest.api_demo
label: API Demo
version_name: "1.0"
version_code: 1
library: native_workmanager
debug_logging: true
activities: [.MainActivity]
deep_link_schemes: [apidemo]
hooks:
  - name: load
    deep_link: apidemo://enqueue/load
    params:
      count: {type: int, default: 1}
    enqueue: [load-task]
    repeat: "{count}"
    overrides:
      unique_name: "load-{index}"
      tags: [kmp-worker-task, "load-{index}"]
  - name: enqueue
    deep_link: apidemo://enqueue/{task}
    enqueue: ["{task}"]
  - name: enqueue-broadcast
    broadcast: dev.bgtest.api_demo.ENQUEUE
    params:
      task: {type: string, default: api-2}
    enqueue: ["{task}"]
work:
  api-1:
    worker: flaky
    backoff: {policy: exponential, delay: 30s}
    unique: {name: api-1, policy: replace}
    tags: [kmp-worker-task, api-1]
  api-2:
    worker: quick
    unique: {name: api-2, policy: replace}
    tags: [kmp-worker-task, api-2]
  upload:
    worker: slow
    unique: {name: upload, policy: replace}
    tags: [kmp-worker-task, upload]
  api-3:
    worker: broken
    unique: {name: api-3, policy: replace}
    tags: [kmp-worker-task, api-3]
  net-sync:
    worker: quick
    constraints: {network: connected}
    unique: {name: net-sync, policy: replace}
    tags: [kmp-worker-task, net-sync]
  load-task:
    worker: quick
    unique: {name: load-task, policy: replace}
    tags: [kmp-worker-task, load]
workers:
  flaky:
    class: dev.bgtest.ApiWorker
    duration: 1s
    outcomes: [retry, success]
  quick:
    class: dev.bgtest.ApiWorker
    duration: 200ms
  slow:
    class: dev.bgtest.ApiWorker
    duration: 5s
  broken:
    class: dev.bgtest.ApiWorker
    duration: 1s
    outcomes: [failure]
"""


