import { DeepenError } from '../../../shared/errors';
import { jobMethods } from '../../../shared/contract/jobs';
import * as jobsSql from '../../data/jobs';
import type { HandlersFor, HostServices } from '../services';

export function jobHandlers(s: HostServices): HandlersFor<typeof jobMethods> {
  return {
    'jobs.list': (p) => jobsSql.listJobs(s.db, p),
    'jobs.get': (p) => {
      const job = jobsSql.getJobDetail(s.db, requireId(p?.id));
      if (!job) throw new DeepenError('not_found', `No job with id ${p.id}. It may have been deleted.`);
      return job;
    },
    'jobs.cancel': (p) => s.jobs.cancel(requireId(p?.id)),
    'jobs.delete': (p) => s.jobs.delete(requireId(p?.id)),
  };
}

function requireId(id: unknown): string {
  if (typeof id !== 'string' || !id) throw new DeepenError('bad_request', 'A job id is required.');
  return id;
}
