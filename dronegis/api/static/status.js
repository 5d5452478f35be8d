// Live status of one flight: follows /api/flights/{id}/events (server-sent events).
(function () {
  'use strict';
  const url = document.body.dataset.events;
  if (!url || !window.EventSource) return;
  const $ = (id) => document.getElementById(id);
  const source = new EventSource(url);
  source.addEventListener('progress', (event) => {
    const job = JSON.parse(event.data);
    $('stage').textContent = job.stage;
    $('status').textContent = job.status;
    $('progress').max = Math.max(job.total, 1);
    $('progress').value = job.done;
    $('count').textContent = job.done + '/' + job.total;
    $('error').textContent = job.error || '';
    if (job.qa_status) $('qa').textContent = job.qa_status;
    if (['done', 'failed', 'waiting_approval'].includes(job.status)) {
      source.close();
      if (job.status !== 'failed') setTimeout(() => window.location.reload(), 500);
    }
  });
})();
