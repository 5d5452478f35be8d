// Live status of one flight: follows /api/flights/{id}/events (server-sent events). Words come from the
// page's own catalogue texts (#page-texts: status, stage and QA labels in the page language).
(function () {
  'use strict';
  const url = document.body.dataset.events;
  if (!url || !window.EventSource) return;
  const $ = (id) => document.getElementById(id);
  const labels = JSON.parse($('page-texts').textContent);
  const show = (id, group, value) => {
    $(id).dataset.value = value;
    $(id).textContent = (labels[group] && labels[group][value]) || value;
  };
  const source = new EventSource(url);
  source.addEventListener('progress', (event) => {
    const job = JSON.parse(event.data);
    show('stage', 'stage', job.stage);
    show('status', 'status', job.status);
    $('progress').max = Math.max(job.total, 1);
    $('progress').value = job.done;
    $('count').textContent = job.done + '/' + job.total;
    $('error').textContent = job.error || '';
    if (job.qa_status) show('qa', 'qa', job.qa_status);
    if (['done', 'failed', 'waiting_approval'].includes(job.status)) {
      source.close();
      if (job.status !== 'failed') setTimeout(() => window.location.reload(), 500);
    }
  });
})();
