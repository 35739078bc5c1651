# References for random-term structures, categorical random coefficients,
# prior weights and grouped / nugget-free spatial residuals (issue 21).
# Run from tests/data: Rscript r/make_random_structures.R
# Writes Machines.csv, sleepstudy_weights.csv and random_structures.json.
#
#   (0 + Machine | Worker), (1 + Machine | Worker)   lme4 REML (us)
#   diag(0 + Machine | Worker)    lme4 with one (0 + dummy(Machine, l) | Worker) per level
#   cs(0 + Machine | Worker)      nlme lme, random = pdCompSymm(~ 0 + Machine)
#   --weights w                   lme4 lmer(weights = w) on sleepstudy, w = 1 + Days %% 3
#   exp/gau(x + y | g[, nugget])  nlme gls corExp / corGaus(form = ~ x + y | Block)
suppressPackageStartupMessages({ library(lme4); library(nlme); library(jsonlite) })
data(Machines, package = "nlme")
m <- data.frame(score = Machines$score, Machine = as.character(Machines$Machine),
                Worker = as.character(Machines$Worker))
write.csv(m, "Machines.csv", row.names = FALSE, quote = FALSE)
m <- read.csv("Machines.csv", stringsAsFactors = TRUE)
m$Worker <- factor(m$Worker)
ctl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
                   check.conv.singular = "ignore")

vc_lme4 <- function(fit) {
  v <- as.data.frame(VarCorr(fit))
  lapply(seq_len(nrow(v)), function(i) list(grp = v$grp[i], var1 = v$var1[i],
                                            var2 = if (is.na(v$var2[i])) NULL else v$var2[i],
                                            vcov = v$vcov[i]))
}
out_lme4 <- function(name, formula, data, covreml_formula, fit, extra = list()) {
  c(list(name = name, formula = covreml_formula, lme4_formula = formula, data = data,
         loglik = as.numeric(logLik(fit)), beta = as.list(fixef(fit)),
         sigma2 = sigma(fit)^2, varcorr = vc_lme4(fit)), extra)
}
fits <- list()
f1 <- lmer(score ~ Machine + (0 + Machine | Worker), m, REML = TRUE, control = ctl)
fits[[length(fits) + 1]] <- out_lme4("machines_us0", "score ~ Machine + (0 + Machine | Worker)",
  "Machines.csv", "score ~ Machine + (0 + Machine | Worker)", f1)
f2 <- lmer(score ~ Machine + (1 + Machine | Worker), m, REML = TRUE, control = ctl)
fits[[length(fits) + 1]] <- out_lme4("machines_us1", "score ~ Machine + (1 + Machine | Worker)",
  "Machines.csv", "score ~ Machine + (1 + Machine | Worker)", f2)
f3 <- lmer(score ~ Machine + (0 + dummy(Machine, "A") | Worker) + (0 + dummy(Machine, "B") | Worker) +
             (0 + dummy(Machine, "C") | Worker), m, REML = TRUE, control = ctl)
fits[[length(fits) + 1]] <- out_lme4("machines_diag", "dummy() per level",
  "Machines.csv", "score ~ Machine + diag(0 + Machine | Worker)", f3)

# cs: nlme pdCompSymm (one variance, one correlation)
f4 <- lme(score ~ Machine, m, random = list(Worker = pdCompSymm(~ 0 + Machine)), method = "REML",
          control = lmeControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500,
                               niterEM = 100))
G <- getVarCov(f4)
fits[[length(fits) + 1]] <- list(name = "machines_cs", data = "Machines.csv",
  formula = "score ~ Machine + cs(0 + Machine | Worker)", nlme = "lme(random = pdCompSymm(~ 0 + Machine))",
  loglik = as.numeric(logLik(f4)), beta = as.list(fixef(f4)), sigma2 = f4$sigma^2,
  variance = G[1, 1], rho = G[1, 2] / G[1, 1])

# prior weights
s <- read.csv("sleepstudy.csv")
s$w <- 1 + s$Days %% 3
write.csv(s, "sleepstudy_weights.csv", row.names = FALSE, quote = FALSE)
f5 <- lmer(Reaction ~ Days + (Days | Subject), s, weights = w, REML = TRUE, control = ctl)
fits[[length(fits) + 1]] <- out_lme4("sleepstudy_weights", "Reaction ~ Days + (Days | Subject), weights = w",
  "sleepstudy_weights.csv", "Reaction ~ Days + (Days | Subject)", f5, list(weights = "w"))
f5b <- lmer(Reaction ~ Days + (1 | Subject), s, weights = w, REML = FALSE, control = ctl)
fits[[length(fits) + 1]] <- out_lme4("sleepstudy_weights_ml", "Reaction ~ Days + (1 | Subject), weights = w, REML = FALSE",
  "sleepstudy_weights.csv", "Reaction ~ Days + (1 | Subject)", f5b, list(weights = "w", method = "ml"))

# spatial fields per block, with and without a nugget (gls)
w <- read.csv("Wheat2.csv")
gctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)
sp <- function(name, keyword, cs) {
  g <- gls(yield ~ variety - 1, w, correlation = cs, method = "REML", control = gctl)
  p <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
  list(name = name, data = "Wheat2.csv", formula = "yield ~ variety - 1", keyword = keyword,
       loglik = as.numeric(logLik(g)), beta = as.list(coef(g)), sigma2 = g$sigma^2,
       range = unname(p["range"]), nugget = if ("nugget" %in% names(p)) unname(p["nugget"]) else NULL)
}
fits[[length(fits) + 1]] <- sp("wheat2_gau_block_nugget", "gau(latitude + longitude | Block, nugget)",
  corGaus(form = ~ latitude + longitude | Block, nugget = TRUE))
fits[[length(fits) + 1]] <- sp("wheat2_exp_block", "exp(latitude + longitude | Block)",
  corExp(form = ~ latitude + longitude | Block))
fits[[length(fits) + 1]] <- sp("wheat2_sph_block", "sph(latitude + longitude | Block)",
  corSpher(c(20), form = ~ latitude + longitude | Block))
fits[[length(fits) + 1]] <- sp("wheat2_gau", "gau(latitude + longitude)",
  corGaus(form = ~ latitude + longitude))
out <- list(source = "tests/data/r/make_random_structures.R", lme4 = as.character(packageVersion("lme4")),
            nlme = as.character(packageVersion("nlme")), R = R.version.string, fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "random_structures.json")

# predictions with categorical random coefficients (lme4 predict, allow.new.levels)
nd <- read.csv("predict_machines_new.csv")
nd$Worker <- factor(nd$Worker)
pr <- list(name = "machines_predict", data = "Machines.csv", newdata = "predict_machines_new.csv",
           formula = "score ~ Machine + (1 + Machine | Worker)",
           prediction = unname(predict(f2, newdata = nd, allow.new.levels = TRUE)))
out$predictions <- list(pr)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "random_structures.json")
