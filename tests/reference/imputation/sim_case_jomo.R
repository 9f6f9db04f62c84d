# R reference for one case of the imputation simulation (tests/multilevel/test_ml_imputation_sim.py).
#
# Data: sim_case.csv, the observed rows of lerendtransformeren.multilevel.dropout.dropout_study(
# SeedSequence(20261204)) (540 families in 15 organisations, 4 waves, MAR dropout).
# Same settings as the Python side: the missed family x wave rows are added (offer taken
# from the organisation x wave, ses from the family); y is imputed by jomo's joint model
# with a random intercept per family (jomo1rancon: one level of clustering), predictors
# C(wave) + offer + C(ses) + C(ses):offer, 2 chains of 25 imputations each (burn-in 1000,
# 100 iterations between imputations); the analysis model
# y ~ C(wave) + offer + (1 | organisation/team/family) is fitted by lmer on every data set
# and pooled by mitml::testEstimates (Rubin's 1987 df, no df.com).
# Writes sim_case_jomo.json. Run from the repository root:
#   Rscript tests/reference/imputation/sim_case_jomo.R
suppressPackageStartupMessages({library(jomo); library(mitml); library(lme4); library(jsonlite)})
here <- "tests/reference/imputation"
obs <- read.csv(file.path(here, "sim_case.csv"), stringsAsFactors = FALSE)
fam <- unique(obs[, c("organisation", "team", "family", "goal", "ses")])
grid <- merge(fam, data.frame(wave = 0:3), by = NULL)
ow <- unique(obs[, c("organisation", "wave", "offer")])
stopifnot(!anyDuplicated(ow[, c("organisation", "wave")]))
grid <- merge(grid, ow, by = c("organisation", "wave"))
d <- merge(grid, obs[, c("family", "wave", "y")], by = c("family", "wave"), all.x = TRUE)
d <- d[order(d$family, d$wave), ]
d$ses <- factor(d$ses, levels = c("laag", "midden", "hoog"))
X <- model.matrix(~ factor(wave) + offer + ses + ses:offer, d)
one_chain <- function(seed) {
  set.seed(seed)
  imp <- jomo1rancon(Y = data.frame(y = d$y), X = X, clus = d$family, nburn = 1000, nbetween = 100,
                     nimp = 25, output = 0)
  imp[imp$Imputation > 0, ]
}
chains <- list(one_chain(1), one_chain(2))
sets <- c(lapply(1:25, function(i) chains[[1]][chains[[1]]$Imputation == i, ]),
          lapply(1:25, function(i) chains[[2]][chains[[2]]$Imputation == i, ]))
fits <- lapply(sets, function(s) {
  dd <- d
  dd$y <- s$y
  lmer(y ~ factor(wave) + offer + (1 | organisation/team/family), data = dd, REML = TRUE,
       control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10)))
})
class(fits) <- c("mitml.result", "list")
est <- testEstimates(fits)$estimates
q <- sapply(fits, function(f) fixef(f)[["offer"]])
u <- sapply(fits, function(f) vcov(f)["offer", "offer"])
out <- list(m = length(fits), n_rows = nrow(d), n_missing = sum(is.na(d$y)),
            estimate = est["offer", "Estimate"], se = est["offer", "Std.Error"], df = est["offer", "df"],
            between = var(q), within = mean(u), estimates = q,
            versions = list(jomo = as.character(packageVersion("jomo")),
                            mitml = as.character(packageVersion("mitml")),
                            lme4 = as.character(packageVersion("lme4"))))
write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), file.path(here, "sim_case_jomo.json"))
