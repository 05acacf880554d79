/** Every memory of this run is in this scope, so runs never see each other's findings. */
export const teamScope = () => ({ userId: 'checkout-team', runId: process.env.MULTI_AGENT_RUN });
