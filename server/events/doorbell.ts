// "Look again": a flag a notice sets and a wait that ends on the next ring or after `ms`, for
// loops that react to notices but must also poll (a notice can be lost).
export type Doorbell = {
  ring(): void;
  /** Returns at once if it rang since the last wait, else on the next ring or after `ms`. */
  wait(ms: number): Promise<void>;
};

export function createDoorbell(): Doorbell {
  let rang = true;
  let wake: (() => void) | undefined;
  return {
    ring() {
      rang = true;
      wake?.();
    },
    async wait(ms) {
      if (!rang) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, ms);
        });
        clearTimeout(timer);
        wake = undefined;
      }
      rang = false;
    },
  };
}
