/**
 * A queue of child-process jobs with a fixed number of lanes: jobs start in the order they were
 * queued, at most `lanes` at a time. The docs suite runs in one Jest worker (one on a 2-core
 * machine), so two lanes keep the second core busy with the next fixture repo's run.
 */
export type Enqueue = <T>(job: () => Promise<T>) => Promise<T>;

export function createLanes(lanes: number): Enqueue {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    running--;
    waiting.shift()?.();
  };
  return <T>(job: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const start = () => {
        running++;
        job().then(resolve, reject).finally(release);
      };
      if (running < lanes) start();
      else waiting.push(start);
    });
}
