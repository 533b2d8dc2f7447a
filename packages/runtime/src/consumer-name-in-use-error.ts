/** Another live instance keeps renewing the heartbeat of this consumer name: this one must not start. */
export class ConsumerNameInUseError extends Error {
  readonly code = "CONSUMER_NAME_IN_USE" as const;
  readonly service: string;
  readonly consumer: string;
  /** The instance id found in the heartbeat. */
  readonly holder: string;

  constructor(service: string, consumer: string, holder: string, why: string) {
    super(
      `consumer name "${consumer}" of ${service} is in use by a live instance (${holder}): ${why}; ` +
        "give this instance its own consumer name or stop the other one",
    );
    this.name = "ConsumerNameInUseError";
    this.service = service;
    this.consumer = consumer;
    this.holder = holder;
  }
}
