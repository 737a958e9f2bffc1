-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN     "replayCount" INTEGER NOT NULL DEFAULT 0;
