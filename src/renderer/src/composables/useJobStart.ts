// A dialog that starts one job: the job's id once started, or why it did not
// start; both cleared each time the dialog opens, when `onOpen` fills the form.
import { ref, watch, type Ref } from 'vue';

export function useJobStart(open: Ref<boolean>, onOpen: () => void) {
  const jobId = ref<string | null>(null);
  const error = ref<string | null>(null);
  watch(open, (v) => {
    if (!v) return;
    jobId.value = null;
    error.value = null;
    onOpen();
  });
  async function start(startJob: () => Promise<string>): Promise<void> {
    error.value = null;
    try {
      jobId.value = await startJob();
    } catch (err) {
      error.value = (err as Error).message;
    }
  }
  return { jobId, error, start };
}
