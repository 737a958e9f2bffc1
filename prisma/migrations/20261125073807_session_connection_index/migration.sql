-- CreateIndex
CREATE INDEX "HostedConnectionSession_connectionId_idx" ON "HostedConnectionSession"("connectionId");
